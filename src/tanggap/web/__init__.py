"""What the pages share: templates, translations, signed-in areas (login, CSRF, password), and
the built-in public channel pages. Edge."""
