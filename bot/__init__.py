"""The application: settings, composition root, engine, sessions, jobs, web app, CLI, sandbox."""
