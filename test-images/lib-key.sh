# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by test-images/build-all.sh and tests/lib.sh: the key of a cached
# fixture, so that a fixture is built again when what builds it changes
# (a stale one would otherwise survive an edit of its script).
#
# fixture_key DIR NAME sets FIXTURE_KEY to the sha256 of DIR/NAME.sh and of
# everything it builds on, found in their text: the helpers of DIR each
# names (lib-fs.sh, mkvmdk-stream.py, ...: a name not part of a longer
# one), and the fixtures each builds first through build-all.sh (the words
# of that line that name a DIR/WORD.sh).  Naming more than is used only
# costs a rebuild; naming less would keep a stale fixture.  Bash builtins
# but for the one sha256sum: the tests call this for every fixture they use.
fixture_key() {
    local dir=$1 todo=("$2.sh") seen=" " f text data="" h b line w rest
    while [ ${#todo[@]} -gt 0 ]; do
        f=${todo[0]} todo=("${todo[@]:1}")
        [[ $seen == *" $f "* ]] && continue
        seen+="$f "
        text=
        [ -f "$dir/$f" ] && { IFS= read -r -d '' text <"$dir/$f" || true; }
        data+="== $f"$'\n'"$text"
        for h in "$dir"/*.sh "$dir"/*.py; do
            b=${h##*/}
            case $b in build-all.sh|demo.sh) continue ;; esac
            [[ $text == *"$b"* && $text =~ (^|[^[:alnum:]_-])"$b" ]] && todo+=("$b")
        done
        rest=$text
        while [[ $rest =~ [^$'\n']*build-all\.sh[^$'\n']* ]]; do
            line=${BASH_REMATCH[0]}
            rest=${rest#*"$line"}
            for w in $line; do
                [[ $w =~ ^[a-z0-9-]+$ ]] && [ -f "$dir/$w.sh" ] && todo+=("$w.sh")
            done
        done
    done
    FIXTURE_KEY=$(sha256sum <<<"$data")
    FIXTURE_KEY=${FIXTURE_KEY%% *}
}
