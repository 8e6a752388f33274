"""Who the person is: onboarding, /settings, /language."""
