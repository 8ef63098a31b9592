"""One module per `mllab` subcommand; imported only when that command runs."""
