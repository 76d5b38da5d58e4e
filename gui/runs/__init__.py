"""The Runs tab: a widget-free :class:`RunsModel` over the run store, the list, the comparison and dialogs."""
