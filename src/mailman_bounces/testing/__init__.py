"""Support for running whole Mailman instances in demonstrations and
end-to-end tests (not used by the plugin itself)."""
