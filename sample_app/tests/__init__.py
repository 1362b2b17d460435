"""The sample app's own tests, written as an app's developers would."""
