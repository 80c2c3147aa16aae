"""The plugin's REST API, served at /3.1/plugins/<plugin name>/."""
