"""The legal register: authorities' and courts' requests for user data, removal and
preservation, how each was answered, and the figures the transparency report reads."""
