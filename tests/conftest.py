import sys
from pathlib import Path

# Shared test helpers (factories, recorded samples, the browser driver) import by bare name.
sys.path.insert(0, str(Path(__file__).parent / "helpers"))
