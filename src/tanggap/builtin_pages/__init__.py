"""The built-in public channel pages: the platform Tanggap ships for its demo and embedded
default. What is restricted there, and the adapter that applies actions to it."""
