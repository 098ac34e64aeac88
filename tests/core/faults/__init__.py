"""Faults a real run meets: a killed, frozen, refused or never-answering service, a taken port, an interrupt."""
