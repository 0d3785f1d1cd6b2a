"""Order handling for the web shop. All amounts are integer cents."""
