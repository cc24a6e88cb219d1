"""What a scan cannot see: the agency's self-assessment answers and its written waivers."""
