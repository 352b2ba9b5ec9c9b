"""Model-free helpers any app may use; nothing here imports an app of ours."""
