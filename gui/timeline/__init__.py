"""The training timeline: a widget-free :class:`TimelineModel` and the slim bar across the window."""
