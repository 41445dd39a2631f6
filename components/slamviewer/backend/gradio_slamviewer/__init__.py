"""SlamViewer: a client-side DBT stack viewer (Cornerstone3D) as a Gradio custom component."""

from .slamviewer import SlamViewer, check_value

__all__ = ["SlamViewer", "check_value"]
