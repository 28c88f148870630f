"""Applications: a worker applies online, an officer verifies employment and decides, the worker answers."""
