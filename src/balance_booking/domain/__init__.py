"""Pure booking domain: intervals, availability, slots, appointments. Standard library only."""
