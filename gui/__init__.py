"""ConvScope's Qt user interface (PySide6 + pyqtgraph) over the headless ``engine`` package."""
