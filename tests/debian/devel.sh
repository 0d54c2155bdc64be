# debian.devel: development tools on the Debian root (gcc, g++, make -j4, git, perl,
# python3 -m venv and pip install of a local wheel, man, dpkg-deb/dpkg -i). Runs inside
# Lintel and natively on the host; the outputs must match, so it prints results, not tool versions or timings.
set -e
export LC_ALL=C
T=$(mktemp -d)
cd "$T"

# gcc: cc1, as, collect2/ld through fork/exec, pipes (-pipe) and temporary files.
cat >hello.c <<'C'
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
    printf("hello from C, %d args, %zu\n", argc, strlen(argv[0]));
    return 0;
}
C
gcc -O2 -Wall -o hello hello.c
./hello a b
gcc -pipe -c hello.c -o hello.o
gcc -o hello2 hello.o
./hello2

# g++: the C++ standard library (vector, map, strings, exceptions); <cstdio> rather than
# <iostream>, whose headers alone double the compile time under TCG.
cat >hello.cc <<'CC'
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>
int main() {
    std::vector<int> v{5, 3, 8, 1};
    std::map<std::string, int> m{{"b", 2}, {"a", 1}};
    int sum = 0;
    for (int x : v) sum += x;
    try {
        throw std::runtime_error("caught");
    } catch (const std::exception &e) {
        std::printf("%s ", e.what());
    }
    for (auto &[k, val] : m) std::printf("%s=%d ", k.c_str(), val);
    std::printf("sum=%d\n", sum);
}
CC
g++ -O2 -std=c++17 -o hellocc hello.cc
./hellocc

# make -j4 of a generated multi-file project (4 units in a static library, and a main).
mkdir proj
cd proj
for i in 1 2 3 4; do
    printf 'int f%d(int x) { int s = 0; for (int i = 0; i < x; i++) s += i * %d; return s; }\n' $i $i >f$i.c
    echo "int f$i(int x);" >>funcs.h
done
{
    echo '#include <stdio.h>'
    echo '#include "funcs.h"'
    echo 'int main(void) { printf("total %d\n", f1(10)+f2(10)+f3(10)+f4(10)); return 0; }'
} >main.c
cat >Makefile <<'MK'
OBJS = f1.o f2.o f3.o f4.o
prog: main.o libf.a
	$(CC) -o $@ main.o libf.a
libf.a: $(OBJS)
	$(AR) rcs $@ $(OBJS)
%.o: %.c funcs.h
	$(CC) -O2 -c $< -o $@
clean:
	rm -f *.o libf.a prog
MK
make -s -j4
./prog
ar t libf.a | sort | tr '\n' ' '
echo
touch f3.c
make -j4 | grep -c '^cc' || true
./prog
cd ..

# git on ext4: fixed identity and dates, so the hashes are the host's.
export GIT_AUTHOR_NAME=Dev GIT_AUTHOR_EMAIL=dev@example.org
export GIT_COMMITTER_NAME=Dev GIT_COMMITTER_EMAIL=dev@example.org
export GIT_AUTHOR_DATE='2024-01-01T00:00:00Z' GIT_COMMITTER_DATE='2024-01-01T00:00:00Z'
export GIT_CONFIG_NOSYSTEM=1 HOME=$T
git config --global user.name Dev
git config --global user.email dev@example.org
git config --global init.defaultBranch main
git config --global color.ui never
mkdir repo
cd repo
git init -q
printf 'line1\nline2\n' >a.txt
mkdir sub
echo sub >sub/b.txt
git add .
git commit -q -m first
git status --short | wc -l
echo line3 >>a.txt
git status --short
git diff | grep '^[-+]' | grep -v '^[-+][-+]'
git commit -q -am second
git branch feature
git checkout -q feature
echo feature >c.txt
git add c.txt
git commit -q -m feature
git checkout -q main
echo more >>sub/b.txt
git commit -q -am third
git merge -q --no-edit feature
git log --format='%H %s' | cat
git branch | cat
git cat-file -p HEAD | grep -c '^parent'
git ls-files | tr '\n' ' '
echo
git fsck --no-progress 2>&1 | wc -l
cd ..

# perl with core modules.
perl -MList::Util=sum,max -MDigest::MD5=md5_hex -MPOSIX=floor -e \
    'print sum(1..10), " ", max(3, 9, 2), " ", md5_hex("lintel"), " ", floor(2.7), "\n"'
perl -MFile::Temp=tempfile -MJSON::PP -e \
    'my ($fh, $n) = tempfile(); print $fh "x" x 10; close $fh; print -s $n, " ", JSON::PP->new->canonical->encode({b => [1, 2], a => "s"}), "\n"'

# python3 -m venv (with ensurepip's bundled pip, offline).
/usr/bin/python3 -m venv venv
venv/bin/python -c 'import sys; print("venv", sys.prefix != sys.base_prefix)'
venv/bin/python -m pip --version >/dev/null && echo "pip runs"
test -x venv/bin/pip && echo "pip installed"

# pip install of a local wheel (no index, no network): a pure-Python package with a console
# script, built here as a wheel is laid out (a zip with the package, METADATA, WHEEL, RECORD).
venv/bin/python - <<'PY'
import base64, hashlib, zipfile
files = {
    "lintelhello/__init__.py": "GREETING = 'hello from a wheel'\ndef main():\n    print(GREETING)\n",
    "lintelhello-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: lintelhello\nVersion: 1.0\n",
    "lintelhello-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: lintel\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    "lintelhello-1.0.dist-info/entry_points.txt": "[console_scripts]\nlintelhello = lintelhello:main\n",
}
record = []
with zipfile.ZipFile("lintelhello-1.0-py3-none-any.whl", "w") as z:
    for name, text in files.items():
        data = text.encode()
        z.writestr(name, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("lintelhello-1.0.dist-info/RECORD,,")
    z.writestr("lintelhello-1.0.dist-info/RECORD", "\n".join(record) + "\n")
PY
venv/bin/pip install -q --no-index --no-cache-dir --disable-pip-version-check \
    ./lintelhello-1.0-py3-none-any.whl
venv/bin/python -c 'import lintelhello; print(lintelhello.GREETING)'
venv/bin/lintelhello
venv/bin/pip list --disable-pip-version-check 2>/dev/null | grep -c '^lintelhello '
venv/bin/pip uninstall -q -y lintelhello
venv/bin/python -c 'import lintelhello' 2>/dev/null || echo "wheel uninstalled"

# man renders a page through groff (man-db, groff-base), fixed width, no pager.
MANWIDTH=72 MANPAGER=cat man 1 true 2>&1 | col -b | sed -n '1,12p'

# dpkg-deb --build and dpkg -i of a small package into a scratch admin directory, so the
# host's own dpkg database is not touched.
mkdir -p pkg/DEBIAN pkg/usr/share/lintel-devel
cat >pkg/DEBIAN/control <<'CTL'
Package: lintel-devel-test
Version: 1.0
Architecture: all
Maintainer: Lintel <lintel@localhost>
Description: debian.devel test package
CTL
echo payload >pkg/usr/share/lintel-devel/data.txt
dpkg-deb --root-owner-group -Zgzip --build pkg test.deb >/dev/null
dpkg-deb -f test.deb Package Version
dpkg-deb -c test.deb | awk '{ print $6 }'
mkdir -p db/updates db/info inst
touch db/status
dpkg --force-not-root --admindir="$T/db" --instdir="$T/inst" --log=/dev/null -i test.deb >/dev/null
cat inst/usr/share/lintel-devel/data.txt
dpkg --admindir="$T/db" -s lintel-devel-test | grep -E '^(Status|Version):'
cd /
rm -rf "$T"
echo devel done
