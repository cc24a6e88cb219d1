"""Every number: score and coverage, gains of a fix, framework posture, tiers and medians."""
