"""Process harness shared by the tests and the benchmarks: the real servers on free loopback ports and a
fake Telegram Bot API."""
