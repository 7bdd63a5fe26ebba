"""The package version, kept in its own module so packaging tools can read it without importing luigi."""

VERSION = "3.8.1"
