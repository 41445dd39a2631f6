"""The SLAM web viewer (Gradio). Run ``python webapp/app.py``; it only wires the UI to ``slam``."""
