"""The agency job: sweep → inventory → checks → score → report, for the CLI and the agent."""
