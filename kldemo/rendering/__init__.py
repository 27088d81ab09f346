"""The rendering room."""
