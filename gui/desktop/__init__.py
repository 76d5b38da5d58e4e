"""ConvScope as a desktop application: file types, folders, install into the applications menu,
opening files from outside (command line, drop, a second launch), first-run welcome, recent files,
the About box.

The modules without ``Qt`` in their imports (:mod:`filetypes`, :mod:`paths`, :mod:`install`) run and
are tested without a display.
"""
