"""The provincial security team's console (issue #15): pages and a read-only API over the
collector's database, behind accounts, sessions and tokens (:mod:`secposture.province.accounts`)."""
