"""Image work on DBT volumes: display windows, preprocessing, the synthetic mammogram, the viewport
and the one stored <-> display orientation helper."""
