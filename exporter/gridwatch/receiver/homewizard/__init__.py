"""HomeWizard Energy Sockets as a switch backend for load shedding."""
