"""Pure renderers: a ScanResult in, text out. Only the CLI writes to the terminal."""
