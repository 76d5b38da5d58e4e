"""The classify panel's parts: "this is a k" (your own examples) and its widget-free model."""
