"""The review workflow: what a reviewer's (or detection's) act sets off across cases, reports,
actions, appeals and banks. Application layer: it calls the domains, and they never call it."""
