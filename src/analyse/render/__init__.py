"""Rendering: maps, HTML tables and fragments (Jinja2 templates), the report's sections, the
monthly index, the analysts' exports.
"""
