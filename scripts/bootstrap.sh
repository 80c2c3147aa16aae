# Create ./.venv with mailman-bounces and everything its tests and demo need.
# Sourced by ./run-tests and ./run-demo; re-installs only when setup.py or
# constraints.txt changed.
set -eu
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "mailman-bounces needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
    exit 2
fi
if [ ! -x .venv/bin/python ]; then
    echo "Creating .venv with $("$PYTHON" --version)"
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.mailman-bounces-installed
wanted=$(cat setup.py constraints.txt | cksum)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    echo "Installing mailman-bounces and its dependencies into .venv"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -c constraints.txt \
        -e '.[test,postgresql,mysql,plot,web]'
    echo "$wanted" > "$stamp"
fi
