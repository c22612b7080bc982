"""The application: settings, the ``covbot report`` pipeline, the CLI and the Action's entry point."""
