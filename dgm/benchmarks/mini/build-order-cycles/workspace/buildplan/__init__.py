"""Plan the order in which monorepo targets are built."""
