#!/bin/sh
# user/shtest.sh - busybox sh and its applets, run inside the guest (/bin/shtest;
# the kernel command line "sh /bin/shtest" runs it and powers off with its status).
#
# Prints KTAP: "# run: shtest.NAME" before each case, then "ok N - shtest.NAME" or
# "not ok N - shtest.NAME # reason". Exits 0 if every case passed, 1 otherwise.
#
# A case is a function t_NAME, listed in CASES. The runner gives it a fresh empty
# directory $D under /tmp (its working directory, removed afterwards), runs it in
# this shell with its output going to a log (printed as "# " lines if it fails),
# and prints one result for it. (The log is set with exec, not as a redirection of
# the call: busybox ash runs a subshell's EXIT trap with the redirections of the
# function it is in undone, so the trap's output would miss $(...).) Inside a case:
#   expect LABEL EXPECTED ACTUAL   the two strings must be equal
#   check LABEL COMMAND...         the command must succeed
# The case passes if it made at least one of these and all held; the reason names
# the first that did not, with what it got. Expected values are literals, worked
# out on the host (md5 sums: printf ... | md5sum) or by hand, never by the shell
# or applet under test.

ROOT=/tmp/shtest.$$
exec < /dev/null 8>&1 9>&2      # 8, 9: the console, for the KTAP lines
nl='
'
tab='	'

# $1 on one line: newlines as \n, tabs as \t, at most 150 characters.
oneline() {
    _s=$1 _o=
    while :; do
        case $_s in
        *"$nl"*) _o="$_o${_s%%"$nl"*}\\n"; _s=${_s#*"$nl"} ;;
        *) _o="$_o$_s"; break ;;
        esac
    done
    _s=$_o _o=
    while :; do
        case $_s in
        *"$tab"*) _o="$_o${_s%%"$tab"*}\\t"; _s=${_s#*"$tab"} ;;
        *) _o="$_o$_s"; break ;;
        esac
    done
    if [ ${#_o} -gt 150 ]; then
        _o="$(printf '%.150s' "$_o")..."
    fi
    printf '%s' "$_o"
}

_fail() {
    [ -n "$FAIL" ] || FAIL=$1
    echo "FAILED: $1"              # into the case's log too
    return 1
}

expect() {
    CHECKS=$((CHECKS + 1))
    [ "x$2" = "x$3" ] && return 0
    _fail "$1: got '$(oneline "$3")', expected '$(oneline "$2")'"
}

check() {
    _label=$1
    shift
    CHECKS=$((CHECKS + 1))
    "$@" && return 0
    _fail "$_label: '$*' failed (status $?)"
}

# "yes" if $1 is a decimal number, else what it is
isnum() {
    case $1 in
    '' | *[!0-9]*) echo "not a number: '$1'" ;;
    *) echo yes ;;
    esac
}

# ---- pipelines ----

t_pipeline() {
    expect "3 stages" "apple fig pear" \
        "$(echo $(printf 'pear\napple\nfig\napple\npear\n' | sort | uniq))"
    expect "4 stages" 10 "$(seq 1 10 | grep 1 | sort -r | head -n 1)"
    expect "7 stages" ">OLLEH" "$(echo hello | cat | tr a-z A-Z | rev | cat | cat | sed 's/^/>/')"
    expect "subshell in pipeline" 2 "$( (echo a; echo b) | cat | wc -l)"
}

t_pipe_bulk() {
    # 108894 bytes, many times a pipe's buffer, through three pipes
    expect "seq 1 20000 | cat | cat | md5sum" "e071f707df7bbeee2a6a1eb48011ddd0  -" \
        "$(seq 1 20000 | cat | cat | md5sum)"
    expect "wc -c" 108894 "$(seq 1 20000 | cat | wc -c)"
}

# ---- redirections ----

t_redir_out() {
    echo one > f
    echo two > f
    expect "> truncates" two "$(cat f)"
    echo three >> f
    echo four >> f
    expect ">> appends" "two${nl}three${nl}four" "$(cat f)"
    echo new >> g
    expect ">> creates" new "$(cat g)"
    : > f
    expect ": > f empties" 0 "$(wc -c < f)"
}

t_redir_in() {
    printf 'alpha\nbeta gamma\n' > f
    read first < f
    expect "read < f" alpha "$first"
    expect "tr < f" "ALPHA${nl}BETA GAMMA" "$(tr a-z A-Z < f)"
    n=0
    while read a b; do n=$((n + 1)); last=$b; done < f
    expect "while read < f: lines" 2 "$n"
    expect "while read < f: 2nd field" gamma "$last"
    expect "read a b splits" "b c" "$(echo 'a b c' | { read x y; echo "$y"; })"
    expect "IFS=: read" "u|v" "$(echo 'u:v' | { IFS=: read p q; echo "$p|$q"; })"
}

t_redir_fd() {
    expect "2>&1 into \$(...)" "out${nl}err" "$(sh -c 'echo out; echo err >&2' 2>&1)"
    sh -c 'echo out; echo err >&2' > f 2>&1
    expect "> f 2>&1" "out${nl}err" "$(cat f)"
    expect "2>/dev/null" visible "$({ echo visible; echo hidden >&2; } 2>/dev/null)"
    expect "2>&1 >/dev/null (order)" err "$({ echo err >&2; echo out; } 2>&1 >/dev/null)"
    ls /no-such-file-x > g 2>&1
    check "ls error in file" grep -q no-such-file-x g
    exec 3> h
    echo via3 >&3
    exec 3>&-
    expect "exec 3> h; >&3" via3 "$(cat h)"
    exec 4< h
    read r <&4
    exec 4<&-
    expect "exec 4< h; <&4" via3 "$r"
}

t_heredoc_expand() {
    x=world
    got=$(cat <<EOF
hello $x
sum $((2 + 3)) sub $(echo inner) \$x
EOF
)
    expect "<<EOF expands" 'hello world
sum 5 sub inner $x' "$got"
    got=$(cat <<-EOF
	tab $x
		two
	EOF
)
    expect "<<-EOF strips tabs" "tab world${nl}two" "$got"
    n=0
    while read l; do n=$((n + l)); done <<EOF
1
2
$x
EOF
    expect "here-document into while read (1+2+world)" 3 "$n"
}

t_heredoc_quoted() {
    x=world
    got=$(cat <<'EOF'
$x $(echo no) `echo no` \$ $((1+1))
EOF
)
    expect "<<'EOF' does not expand" '$x $(echo no) `echo no` \$ $((1+1))' "$got"
}

# ---- variables, quoting, expansions ----

t_quoting() {
    x=val
    expect "single vs escaped double" "\$x \"q\" \\t" '$x "q" \t'
    expect "double quotes expand" pre-val-post "pre-$x-post"
    expect "\${x}s" vals "${x}s"
    v="a   b"
    expect '"$v" keeps spaces' "a   b" "$(echo "$v")"
    expect '$v splits' "a b" "$(echo $v)"
    expect "backslashes" '$x y' "$(echo \$x\ y)"
    expect "'' inside \"\"" "'val'" "$(echo "'$x'")"
    expect "glob in quotes" '*' "$(echo "*")"
    expect "length of escapes" 3 "$(printf 'a\tb' | wc -c)"
}

t_args() {
    count() { echo $#; }
    joined() { printf '%s|' "$@"; }
    set -- "a b" "c d e" ""
    expect '"$@" count' 3 "$(count "$@")"
    expect '"$@" words' "a b|c d e||" "$(joined "$@")"
    expect '$@ count' 5 "$(count $@)"
    expect '"$*" count' 1 "$(count "$*")"
    expect '"$*" joins with space' "a b c d e |" "$(joined "$*")"
    expect '$# in case' 3 "$#"
    shift
    expect 'shift' "c d e" "$1"
    v="x:y:z"
    old=$IFS
    IFS=:
    expect 'IFS=: splitting' 3 "$(count $v)"
    IFS=$old
    v="1 2  3"
    expect 'default IFS splitting' 3 "$(count $v)"
}

t_param_expansion() {
    v=archive.tar.gz
    e=
    unset u
    expect '${u:-default}' default "${u:-default}"
    expect '${e:-default}' default "${e:-default}"
    expect '${e-dash}' "" "${e-dash}"
    expect '${v:-x}' archive.tar.gz "${v:-x}"
    expect '${#v}' 14 "${#v}"
    expect '${v%.gz}' archive.tar "${v%.gz}"
    expect '${v%%.*}' archive "${v%%.*}"
    expect '${v#*.}' tar.gz "${v#*.}"
    expect '${v##*.}' gz "${v##*.}"
    expect '${v:+alt}' alt "${v:+alt}"
    expect '${e:+alt}' "" "${e:+alt}"
    : ${u:=assigned}
    expect '${u:=assigned}' assigned "$u"
    expect '${v:0:7}' archive "${v:0:7}"
    expect '${v/tar/zip}' archive.zip.gz "${v/tar/zip}"
    expect '$(( ))' "12 -1 24 8" "$(( (7 * 6) % 5 + 1 << 2 )) $((-7 % 3)) $((0x10 + 010)) $((25 / 3))"
    i=5
    i=$((i * i + 1))
    expect 'i=$((i*i+1))' 26 "$i"
}

t_cmdsubst() {
    expect 'nested $()' abc "$(echo a$(echo b$(echo c)))"
    expect 'backquotes' x "`echo x`"
    expect 'nested backquotes' inner "`echo \`echo inner\``"
    expect '`` in $()' m "$(echo `echo m`)"
    expect '$() in ``' n "`echo $(echo n)`"
    expect 'trailing newlines removed' a "$(printf 'a\n\n\n')"
    expect 'inside a word' pre-3-post "pre-$(echo 3)-post"
    expect 'quotes inside $()' "a  b" "$(echo "a  b")"
}

# ---- control flow, functions, subshells ----

t_if() {
    sign() {
        if [ "$1" -lt 0 ]; then echo neg; elif [ "$1" -eq 0 ]; then echo zero; else echo pos; fi
    }
    expect "if/elif/else" "neg zero pos" "$(sign -5) $(sign 0) $(sign 7)"
    if echo xyz | grep -q y; then r=found; else r=missing; fi
    expect "if on a pipeline" found "$r"
    if ! false; then r=negated; else r=no; fi
    expect "if !" negated "$r"
    expect "&& ||" "A B" "$(true && echo A || echo B) $(false && echo A || echo B)"
    expect "[ ] tests" "yes" "$([ abc = abc ] && [ 3 -lt 10 ] && [ -z '' ] && [ -n x ] && [ a != b ] && echo yes)"
}

t_while() {
    i=0 s=0
    while [ $i -lt 10 ]; do i=$((i + 1)); s=$((s + i)); done
    expect "while sum 1..10" 55 "$s"
    n=1
    until [ $n -ge 100 ]; do n=$((n * 2)); done
    expect "until doubling" 128 "$n"
    out=
    for i in 1 2 3 4 5 6; do
        [ $i = 2 ] && continue
        [ $i = 5 ] && break
        out="$out$i"
    done
    expect "continue/break" 134 "$out"
    expect "while read in a pipeline" "1 4 9 16 25" \
        "$(echo $(seq 1 5 | while read x; do echo $((x * x)); done))"
}

t_for() {
    o=
    for w in a b c; do o="$o$w."; done
    expect "for in list" a.b.c. "$o"
    touch x1 x3 x2 y1
    o=
    for f in x*; do o="$o $f"; done
    expect "for over a glob (sorted)" " x1 x2 x3" "$o"
    o=
    for i in $(seq 3); do o="$o$i"; done
    expect 'for over $(seq 3)' 123 "$o"
    set -- p q
    o=
    for a; do o="$o$a"; done
    expect 'for without in' pq "$o"
    o=
    for i in 1 2; do for j in a b; do o=$o$i$j; done; done
    expect 'nested for' 1a1b2a2b "$o"
}

t_case() {
    kind() {
        case $1 in
        [0-9] | [0-9][0-9]) echo num ;;
        *.txt | *.md) echo doc ;;
        a*) echo a-word ;;
        "") echo empty ;;
        *) echo other ;;
        esac
    }
    expect "case patterns" "num num doc a-word empty other" \
        "$(kind 7) $(kind 42) $(kind notes.md) $(kind apple) $(kind '') $(kind Zed)"
    case 'x' in "*") r=literal ;; *) r=glob ;; esac
    expect 'quoted "*" is literal' glob "$r"
}

t_func() {
    add() { echo $(($1 + $2)); }
    expect "args" 7 "$(add 3 4)"
    setvars() { local v=inner; v2=global; echo "$v"; }
    v=outer v2=
    expect "local value" inner "$(setvars)"
    setvars > /dev/null
    expect "local does not leak" outer "$v"
    expect "global assignment does" global "$v2"
    rc() { return $1; }
    rc 3
    expect "return 3" 3 "$?"
    rc 0
    expect "return 0" 0 "$?"
    set -- x y z
    pa() { echo "$#:$1"; }
    expect "function's own \$# \$1" 1:a "$(pa a)"
    expect "caller's kept" 3:x "$#:$1"
    fact() { if [ $1 -le 1 ]; then echo 1; else echo $(($1 * $(fact $(($1 - 1))))); fi; }
    expect "recursion 5!" 120 "$(fact 5)"
}

t_subshell() {
    x=1 y=
    (x=2; y=3; cd /)
    expect "variable not leaked" 1 "$x"
    expect "new variable not leaked" "" "$y"
    expect "cwd not leaked" "$D" "$(pwd)"
    { x=4; }
    expect "{ } does change it" 4 "$x"
    expect "subshell sees parent's" 4 "$(echo $x)"
    (exit 5)
    expect "subshell exit 5 leaves this shell running" 5 "$?"
}

t_exit_codes() {
    true; a=$?
    false; b=$?
    false | true; c=$?
    true | false; d=$?
    (exit 7); e=$?
    no_such_command_x 2> /dev/null; f=$?
    ! true; g=$?
    sh -c 'exit 300'; h=$?
    expect "true false f|t t|f (exit 7) missing !true exit-300" "0 1 0 1 7 127 1 44" "$a $b $c $d $e $f $g $h"
    printf 'echo hi\n' > noexec
    ./noexec 2> /dev/null
    expect "not executable: 126" 126 "$?"
}

# ---- jobs and signals ----

t_bg_wait() {
    (sleep 1; exit 3) &
    pid=$!
    expect '$! is a number' yes "$(isnum "$pid")"
    check '$! is not $$' [ "$pid" != "$$" ]
    wait $pid
    expect 'wait $pid gives its status' 3 "$?"
    a=$(date +%s)
    (sleep 3; echo a > fa) &
    (sleep 3; echo b > fb) &
    wait
    b=$(date +%s)
    expect "wait for both" "a${nl}b" "$(cat fa fb)"
    el=$((b - a))
    expect "two 3-s jobs in parallel take 3..5 s" yes "$([ $el -ge 3 ] && [ $el -le 5 ] && echo yes || echo "no, $el s")"
}

t_trap_signal() {
    got=
    trap 'got=caught' USR1
    kill -USR1 $$
    trap - USR1
    expect "trap ... USR1; kill -USR1 \$\$" caught "$got"
    expect "in sh -c" "caught${nl}after" "$(sh -c 'trap "echo caught" USR1; kill -USR1 $$; echo after')"
    sh -c 'trap "echo term; exit 3" TERM; kill -TERM $$; echo notreached' > f
    expect "TERM handler's exit status" 3 "$?"
    expect "TERM handler's output" term "$(cat f)"
    # a shell blocked in wait, signalled by another process
    sh -c 'sleep 10 & s=$!; trap "kill \$s; echo got > g; exit 4" USR2; echo ready > r; wait' &
    pid=$!
    n=0
    while [ ! -s r ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
    kill -USR2 $pid
    wait $pid
    expect "USR2 to a shell in wait: status" 4 "$?"
    expect "USR2 to a shell in wait: handler" got "$(cat g)"
}

t_trap_exit() {
    expect "EXIT trap in subshell" "hi${nl}bye" "$( (trap 'echo bye' EXIT; echo hi) )"
    expect "with exit 3" "hi${nl}bye${nl}rc=3" "$( (trap 'echo bye' EXIT; echo hi; exit 3); echo "rc=$?")"
    got=$(sh -c 'trap "echo cleanup" EXIT; false')
    expect "sh -c status kept" 1 "$?"
    expect "sh -c EXIT trap" cleanup "$got"
}

t_kill_bg() {
    a=$(date +%s)
    sleep 100 &
    pid=$!
    kill -0 $pid
    expect "kill -0 on a live job" 0 "$?"
    kill $pid
    wait $pid
    st=$?
    b=$(date +%s)
    expect "status after kill (128+15)" 143 "$st"
    expect "quick (<= 2 s)" yes "$([ $((b - a)) -le 2 ] && echo yes || echo "no, $((b - a)) s")"
    kill -0 $pid 2> /dev/null
    expect "kill -0 after it was reaped" 1 "$?"
    sleep 100 &
    pid=$!
    kill -9 $pid
    wait $pid
    expect "status after kill -9 (128+9)" 137 "$?"
}

# ---- files ----

t_fs_tree() {
    mkdir -p a/b/c a/d
    touch a/f1 a/b/f2
    echo x > a/b/c/f3
    echo yy > a/d/f4.txt
    expect "find -type f" "a/b/c/f3 a/b/f2 a/d/f4.txt a/f1" "$(echo $(find a -type f | sort))"
    expect "find -type d" "a a/b a/b/c a/d" "$(echo $(find a -type d | sort))"
    expect "find -name" a/d/f4.txt "$(find a -name '*.txt')"
    expect "find -maxdepth 1" a/f1 "$(find a -maxdepth 1 -type f)"
    expect "find -empty-ish: -size 0" "a/b/f2 a/f1" "$(echo $(find a -type f -size 0 | sort))"
    expect "contents" yy "$(cat a/d/f4.txt)"
}

t_find_xargs() {
    mkdir -p s/t
    printf 'one\n' > s/1.txt
    printf 'two\n' > s/t/2.txt
    printf 'three\n' > s/t/3.log
    expect "find | sort | xargs cat" "one${nl}two" "$(find s -name '*.txt' | sort | xargs cat)"
    expect "find | xargs cat | wc -l" 3 "$(find s -type f | xargs cat | wc -l)"
    expect "xargs -n 1" 3 "$(echo a b c | xargs -n 1 echo | wc -l)"
    find s -name '*.log' | xargs -I{} cp {} {}.bak
    expect "xargs -I{}" three "$(cat s/t/3.log.bak)"
    expect "find -exec" "one${nl}two" "$(find s -name '*.txt' -exec cat {} \; | sort)"
}

t_sort_uniq() {
    printf 'b\na\nb\nc\nb\na\n' > w
    expect "sort | uniq -c" "      2 a${nl}      3 b${nl}      1 c" "$(sort w | uniq -c)"
    expect "... | sort -rn | head -1" "      3 b" "$(sort w | uniq -c | sort -rn | head -n 1)"
    expect "sort -u" "a b c" "$(echo $(sort -u w))"
    expect "uniq -d" "a b" "$(echo $(sort w | uniq -d))"
    expect "sort -n" "9 10 100" "$(echo $(printf '10\n9\n100\n' | sort -n))"
    expect "sort (text)" "10 100 9" "$(echo $(printf '10\n9\n100\n' | sort))"
    expect "sort -t: -k2 -n" "y:1 z:2 x:3" "$(echo $(printf 'x:3\ny:1\nz:2\n' | sort -t: -k2 -n))"
}

t_md5sum() {
    expect "hello world" "6f5902ac237024bdd0c176cb93063dc4  -" "$(printf 'hello world\n' | md5sum)"
    printf 'kestrel' > k
    expect "file" "92e1289e6ed27436e253765bb20922e5  k" "$(md5sum k)"
    expect "empty" "d41d8cd98f00b204e9800998ecf8427e  -" "$(md5sum < /dev/null)"
    expect "sha256 abc" "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  -" \
        "$(printf 'abc' | sha256sum)"
    printf 'hello world\n' > h
    expect "two files" "92e1289e6ed27436e253765bb20922e5  k${nl}6f5902ac237024bdd0c176cb93063dc4  h" "$(md5sum k h)"
}

t_bigfile() {
    seq 1 100000 > big
    expect "stat -c %s" 588895 "$(stat -c %s big)"
    expect "md5sum" "dea9193b768319cbb4ff1a137ac03113  big" "$(md5sum big)"
    cp big big2
    expect "cp, md5sum" "dea9193b768319cbb4ff1a137ac03113  -" "$(cat big2 | md5sum)"
    expect "tail" 100000 "$(tail -n 1 big2)"
}

t_cp_r() {
    mkdir -p src/sub
    printf 'alpha\n' > src/a
    printf 'beta\n' > src/sub/b
    cp -r src dst
    expect "tree" "dst dst/a dst/sub dst/sub/b" "$(echo $(find dst | sort))"
    expect "contents md5" "852e77b490fb4e8653fbc11f4c6f89c2  -" "$(cat dst/a dst/sub/b | md5sum)"
    mkdir e
    cp -r src e
    expect "into a directory" beta "$(cat e/src/sub/b)"
    cp src/a c1
    check "cp file, cmp" cmp src/a c1
    expect "source kept" alpha "$(cat src/a)"
}

t_mv() {
    printf 'data\n' > m1
    mv m1 m2
    check "old name gone" [ ! -e m1 ]
    expect "renamed" data "$(cat m2)"
    mkdir d
    mv m2 d/
    check "into a directory" [ -f d/m2 ]
    mv d d2
    check "directory renamed" [ ! -e d ]
    expect "its file" data "$(cat d2/m2)"
    printf 'new\n' > x
    printf 'old\n' > y
    mv x y
    expect "over an existing file" new "$(cat y)"
    check "source gone" [ ! -e x ]
}

t_rm_r() {
    mkdir -p r/a/b
    touch r/a/b/f r/g
    rm -r r
    check "rm -r" [ ! -e r ]
    touch f
    rm f
    check "rm" [ ! -e f ]
    rm -f does-not-exist
    expect "rm -f missing: 0" 0 "$?"
    rm does-not-exist 2> /dev/null
    expect "rm missing: 1" 1 "$?"
    mkdir em ne
    touch ne/f
    rmdir em
    check "rmdir" [ ! -e em ]
    rmdir ne 2> /dev/null
    check "rmdir non-empty fails" [ -d ne ]
}

t_symlink() {
    printf 'target data\n' > tgt
    ln -s tgt lnk
    expect "readlink" tgt "$(readlink lnk)"
    expect "cat through it" "target data" "$(cat lnk)"
    check "test -L" [ -L lnk ]
    check "test -f follows" [ -f lnk ]
    ln -s nowhere dang
    check "dangling: -L" [ -L dang ]
    check "dangling: ! -e" [ ! -e dang ]
    mkdir realdir
    touch realdir/inside
    ln -s realdir dl
    expect "ls through a directory link" inside "$(ls dl)"
    ln -s "$D/tgt" abs
    expect "absolute target" "$D/tgt" "$(readlink abs)"
    expect "realpath" "$D/tgt" "$(realpath lnk)"
    rm lnk
    check "rm link keeps target" [ -f tgt ]
}

t_ls() {
    mkdir sub
    touch c a b
    expect "ls (sorted, one a line)" "a${nl}b${nl}c${nl}sub" "$(ls)"
    expect "ls -a" ". .. a b c sub" "$(echo $(ls -a))"
    expect "ls -F" "a b c sub/" "$(echo $(ls -F))"
    expect "ls -d" sub "$(ls -d sub)"
    chmod 751 a
    expect "ls -l mode" "-rwxr-x--x" "$(ls -l a | cut -c1-10)"
    expect "ls -ld mode" d "$(ls -ld sub | cut -c1)"
}

t_wc_head_tail() {
    printf 'hello\nworld\n' > w
    expect "wc -l" 2 "$(wc -l < w)"
    expect "wc -c" 12 "$(wc -c < w)"
    expect "wc -w" 2 "$(wc -w < w)"
    expect "wc -l file" "2 w" "$(wc -l w)"
    seq 1 100 > n
    expect "head | tail" 3 "$(head -n 3 n | tail -n 1)"
    expect "tail -n 2" "99${nl}100" "$(tail -n 2 n)"
    expect "tail -n +98" "98 99 100" "$(echo $(tail -n +98 n))"
    expect "head -c 5" "1${nl}2${nl}3" "$(head -c 5 n)"
    expect "tail -c 4" 100 "$(tail -c 4 n)"
    expect "head (10 lines)" 10 "$(head n | wc -l)"
}

t_cut_tr() {
    expect "cut -d: -f2,4" b:d "$(echo a:b:c:d | cut -d: -f2,4)"
    expect "cut -c2-4" bcd "$(echo abcdef | cut -c2-4)"
    expect "cut -f2 (tab)" y "$(printf 'x\ty\tz\n' | cut -f2)"
    expect "tr a-z A-Z" HELLO "$(echo hello | tr a-z A-Z)"
    expect "tr -d" dctn "$(echo education | tr -d aeiou)"
    expect "tr -s" "a b c" "$(echo 'a   b    c' | tr -s ' ')"
    expect "tr : \\n" 3 "$(echo x:y:z | tr : '\n' | wc -l)"
    expect "tr [:lower:] [:upper:]" ABC "$(echo abc | tr '[:lower:]' '[:upper:]')"
}

t_stat_du() {
    printf '%1000s' '' > s1000
    expect "stat -c %s" 1000 "$(stat -c %s s1000)"
    touch e
    expect "stat -c %s empty" 0 "$(stat -c %s e)"
    chmod 640 e
    expect "stat -c %a after chmod 640" 640 "$(stat -c %a e)"
    expect "stat -c %F" "directory" "$(stat -c %F .)"
    head -c 8192 /dev/zero > z
    expect "head -c 8192 /dev/zero" 8192 "$(stat -c %s z)"
    expect "du -k" "8${tab}z" "$(du -k z)"
}

t_test_ops() {
    mkdir dir
    touch file
    printf x > nonempty
    ln -s file link
    printf '#!/bin/sh\n' > exe
    chmod +x exe
    r=
    test -f file && r=${r}f
    test -d dir && r=${r}d
    test -L link && r=${r}L
    test -x exe && r=${r}x
    test -e file && r=${r}e
    test -s nonempty && r=${r}s
    test -f dir || r=${r}1
    test -d file || r=${r}2
    test -L file || r=${r}3
    test -x file || r=${r}4
    test -s file || r=${r}5
    test -e nope || r=${r}6
    test -c /dev/null && r=${r}c
    test -r file && r=${r}r
    test -w file && r=${r}w
    test -h link && r=${r}h
    expect "-f -d -L -x -e -s, six negatives, -c -r -w -h" fdLxes123456crwh "$r"
}

# ---- text tools ----

t_grep() {
    seq 1 100 > f
    expect "grep -c 7" 19 "$(grep -c 7 f)"
    expect "grep -c ^1" 12 "$(grep -c '^1' f)"
    expect "grep -x" 50 "$(grep -x 50 f)"
    expect "grep -v -c" 9 "$(grep -v -c '[0-9][0-9]' f)"
    expect "grep -E" "30 40" "$(echo $(grep -E '^(3|4)0$' f))"
    expect "grep -n" 99:99 "$(grep -n '^99$' f)"
    expect "grep -A1" "42${nl}43" "$(grep -A1 '^42$' f)"
    expect "grep -ci" 3 "$(printf 'Foo\nfoo\nFOO\nbar\n' | grep -ci foo)"
    grep -q nomatch f
    expect "grep no match: 1" 1 "$?"
}

t_sed() {
    seq 1 100 > f
    expect "sed -n s///p" "five-1 five-2 five-3 five-4 five-5 five-6 five-7 five-8 five-9" \
        "$(echo $(sed -n 's/^\(.\)5$/five-\1/p' f))"
    expect "sed -n 10,12p" "10 11 12" "$(echo $(sed -n 10,12p f))"
    expect "sed /re/d" 91 "$(sed '/^[0-9]$/d' f | wc -l)"
    expect "sed -n 100s///gp" 1OO "$(sed -n '100s/0/O/gp' f)"
    expect "sed -n \$=" 100 "$(sed -n '$=' f)"
    expect "sed /a/,/b/p" "48 49 50" "$(echo $(sed -n '/^48$/,/^50$/p' f))"
    expect "sed y///" xyz "$(echo abc | sed 'y/abc/xyz/')"
    printf 'a\nb\n' > g
    sed -i 's/b/B/' g
    expect "sed -i" "a${nl}B" "$(cat g)"
}

t_awk() {
    seq 1 100 > f
    expect "sum" 5050 "$(awk '{ s += $1 } END { print s }' f)"
    expect "NR%10==0" 10 "$(awk 'NR % 10 == 0' f | wc -l)"
    expect "count \$1>95" 5 "$(awk '$1 > 95 { c++ } END { print c }' f)"
    expect "-F:" b "$(echo a:b:c | awk -F: '{ print $2 }')"
    expect "printf %.2f" 3.33 "$(echo 10 | awk '{ printf "%.2f", $1 / 3 }')"
    expect "BEGIN loop" 12345 "$(awk 'BEGIN { for (i = 1; i <= 5; i++) p = p i; print p }')"
    expect "arrays, NF" "3 1 5" "$(echo 'x y x z x' | awk '{ for (i = 1; i <= NF; i++) n[$i]++ } END { print n["x"], n["y"], NF }')"
    expect "length substr toupper" "5 ell HELLO" "$(echo hello | awk '{ print length($0), substr($0, 2, 3), toupper($0) }')"
    expect "sqrt" 12 "$(awk 'BEGIN { print sqrt(144) }')"
    expect "-v" 42 "$(awk -v n=7 'BEGIN { print n * 6 }')"
}

# ---- scripts ----

t_script_sh() {
    printf 'echo "$0|$#|$1|$2"\n' > s.sh
    expect "sh s.sh a 'b c'" "s.sh|2|a|b c" "$(sh s.sh a 'b c')"
    expect "sh /path/s.sh x" "$D/s.sh|1|x|" "$(sh "$D/s.sh" x)"
    printf 'exit 5\n' > e.sh
    sh e.sh
    expect "script's exit status" 5 "$?"
    expect "sh -c with \$0 \$1" "zero one" "$(sh -c 'echo $0 $1' zero one)"
}

t_script_exec() {
    cat > run <<'EOF'
#!/bin/sh
echo "$0|$#|$1|$2"
exit 9
EOF
    chmod +x run
    check "test -x" [ -x run ]
    got=$("$D/run" one "two three")
    expect "exit status" 9 "$?"
    expect "\$0 \$# \$1 \$2 by full path" "$D/run|2|one|two three" "$got"
    expect "./run" "./run|0||" "$(./run)"
    expect "found on \$PATH" "$D/run|1|a|" "$(PATH="$D:$PATH" run a)"
}

t_script_noshebang() {
    # execve fails with ENOEXEC; the shell then runs the file itself
    printf 'echo "no shebang $#:$1"\n' > ns
    chmod +x ns
    expect "./ns arg" "no shebang 1:arg" "$(./ns arg)"
}

# ---- assorted applets ----

t_printf() {
    expect "formats" "   ab|c  |007|ff|10|x|%" "$(printf '%5s|%-3s|%03d|%x|%o|%c|%%\n' ab c 7 255 8 xyz)"
    expect "format reused" a-b-c- "$(printf '%s-' a b c)"
    expect "%d 0x1f" 31 "$(printf '%d' 0x1f)"
    expect "%.3f" 2.500 "$(printf '%.3f' 2.5)"
    expect "octal escape" A "$(printf '\101')"
}

t_seq_yes() {
    expect "seq 3" "1 2 3" "$(echo $(seq 3))"
    expect "seq 2 3 11" "2 5 8 11" "$(echo $(seq 2 3 11))"
    expect "seq 5 -2 1" "5 3 1" "$(echo $(seq 5 -2 1))"
    expect "seq -s," 1,2,3,4 "$(seq -s, 1 4)"
    expect "seq -w" "08 09 10" "$(echo $(seq -w 8 10))"
    expect "yes | head -n 3" "y${nl}y${nl}y" "$(yes | head -n 3)"
    expect "yes abc | head -n 1000 | wc -l" 1000 "$(yes abc | head -n 1000 | wc -l)"
    expect "yes | head -c 10000 | wc -c" 10000 "$(yes | head -c 10000 | wc -c)"
}

t_tee() {
    expect "tee passes through" HELLO "$(echo hello | tee t1 t2 | tr a-z A-Z)"
    expect "tee wrote both" "hello${nl}hello" "$(cat t1 t2)"
    echo more | tee -a t1 > /dev/null
    expect "tee -a" "hello${nl}more" "$(cat t1)"
}

t_od_hexdump() {
    expect "od -c" "0000000   A   B  \\n${nl}0000003" "$(printf 'AB\n' | od -c)"
    expect "hexdump -C" "00000000  41 42 0a                                          |AB.|${nl}00000003" \
        "$(printf 'AB\n' | hexdump -C)"
    expect "od -An -tx1" " 01 ff" "$(printf '\001\377' | od -An -tx1)"
}

t_date() {
    a=$(date +%s)
    expect "date +%s is a number" yes "$(isnum "$a")"
    expect "date +%Y is 4 digits" yes "$(case $(date +%Y) in [0-9][0-9][0-9][0-9]) echo yes ;; *) date +%Y ;; esac)"
    expect "date -u -d @86400" 1970-01-02 "$(date -u -d @86400 +%Y-%m-%d)"
}

t_sleep() {
    a=$(date +%s)
    sleep 1
    b=$(date +%s)
    el=$((b - a))
    expect "sleep 1 takes 1..3 s by date +%s" yes "$([ $el -ge 1 ] && [ $el -le 3 ] && echo yes || echo "no, $el s")"
}

t_env() {
    expect "VAR=x env" FOO=bar "$(FOO=bar env | grep '^FOO=')"
    export V1=exported
    V2=local_only
    expect "export reaches a child" "[exported][]" "$(sh -c 'echo "[$V1][$V2]"')"
    unset V1
    expect "unset" "[]" "$(sh -c 'echo "[$V1]"')"
    expect "env -i" 12 "$(env -i A=1 B=2 /bin/sh -c 'echo $A$B')"
    expect "env -i clears" "" "$(env -i /bin/env)"
    expect "printenv" x "$(P1=x printenv P1)"
}

t_basename_dirname() {
    expect "basename" c.txt "$(basename /a/b/c.txt)"
    expect "basename suffix" c "$(basename /a/b/c.txt .txt)"
    expect "basename trailing /" b "$(basename /a/b/)"
    expect "dirname" /a/b "$(dirname /a/b/c.txt)"
    expect "dirname relative" . "$(dirname c.txt)"
    expect "dirname /" / "$(dirname /)"
}

t_expr() {
    expect "6 * 7" 42 "$(expr 6 \* 7)"
    expect "17 / 5, 17 % 5" "3 2" "$(expr 17 / 5) $(expr 17 % 5)"
    expect "length" 5 "$(expr length hello)"
    expect "substr" ell "$(expr substr hello 2 3)"
    expect "match" b "$(expr abc : 'a\(.\)')"
    expect "5 > 3" 1 "$(expr 5 \> 3)"
    expr 0 > /dev/null
    expect "status of a 0 result" 1 "$?"
}

# dmesg: the kernel log holds the boot banner; -c empties it after reading.
t_dmesg() {
    expect "the boot banner" 1 "$(dmesg | grep -c 'kestrel: RISC-V Sv48 kernel on hart 0')"
    check "dmesg -c" dmesg -c
    expect "empty after -c" 0 "$(dmesg | wc -c)"
}

CASES="pipeline pipe_bulk
redir_out redir_in redir_fd heredoc_expand heredoc_quoted
quoting args param_expansion cmdsubst
if while for case func subshell exit_codes
bg_wait trap_signal trap_exit kill_bg
fs_tree find_xargs sort_uniq md5sum bigfile cp_r mv rm_r symlink ls wc_head_tail cut_tr stat_du test_ops
grep sed awk
script_sh script_exec script_noshebang
printf seq_yes tee od_hexdump date sleep env basename_dirname expr dmesg"

# ---- the runner ----

set -- $CASES
echo "KTAP version 1"
echo "1..$#"
N=0
FAILED=0
mkdir -p "$ROOT"
for name in $CASES; do
    N=$((N + 1))
    CHECKS=0
    FAIL=
    D=$ROOT/$name
    echo "# run: shtest.$name"
    if mkdir "$D" && cd "$D"; then
        exec > "$ROOT/$name.log" 2>&1
        "t_$name"
        exec >&8 2>&9
        cd /
        rm -rf "$D"
    else
        FAIL="cannot make and enter $D"
    fi
    if [ -z "$FAIL" ] && [ "$CHECKS" -eq 0 ]; then
        FAIL="no check ran"
    fi
    if [ -z "$FAIL" ]; then
        echo "ok $N - shtest.$name"
    else
        FAILED=$((FAILED + 1))
        echo "not ok $N - shtest.$name # $FAIL"
        if [ -s "$ROOT/$name.log" ]; then
            n=0
            while IFS= read -r line && [ $n -lt 30 ]; do
                echo "#   $line"
                n=$((n + 1))
            done < "$ROOT/$name.log"
        fi
    fi
done
cd /
rm -rf "$ROOT"
echo "# shtest: $((N - FAILED)) passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
exit $?
