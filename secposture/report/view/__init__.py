"""What the agency report shows, prepared in Python: :func:`.build.build_view` assembles the
page's view from one module per section; ``templates/agency/report.html.j2`` only lays it out."""
