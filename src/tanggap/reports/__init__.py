"""Reports: intake with its legal deadline, statuses, the thread with the flagger, the reporter's
view, an organisation's figures. Domain layer."""
