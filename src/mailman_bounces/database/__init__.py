"""Creating and migrating the plugin's tables."""
