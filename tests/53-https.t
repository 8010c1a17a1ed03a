#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# -a https://...: nginx with TLS on 127.0.0.1 (a self-signed certificate
# made by openssl for the test): certificates are verified (an unknown
# one is refused, naming the reason), CURL_CA_BUNDLE names the CA to
# trust, as for the curl tool.  Oracle: the trees the ext4 was made of.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-remote.sh"
command -v openssl >/dev/null || skip_all "openssl not installed"
R=$(fixture remote) || exit 1

chmod 755 "$T"
mkdir -p "$T/ng"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$T/ng/key.pem" -out "$T/ng/cert.pem" 2>/dev/null \
    || skip_all "openssl cannot make a certificate here"
start_nginx "$R" ssl "" "ssl_certificate $T/ng/cert.pem;
        ssl_certificate_key $T/ng/key.pem;"
H="https://127.0.0.1:$port"

is "$(CURL_CA_BUNDLE=$T/ng/cert.pem gcat -a "$H/top.qcow2" -m /dev/sda /etc/hostname)" \
    "$(cat "$R/v2/etc/hostname")" "gcat over HTTPS (CURL_CA_BUNDLE names the CA)"
is "$(CURL_CA_BUNDLE=$T/ng/cert.pem gcat -a "$H/top.qcow2" -m /dev/sda /data/noise.bin | md5sum)" \
    "$(md5sum <"$R/v1/data/noise.bin")" "6 MiB through the chain over HTTPS"
fails_cleanly "an unknown certificate is refused" env -u CURL_CA_BUNDLE gcat -a "$H/top.qcow2" -m /dev/sda /x
grep -qi 'certificate' "$T/fc.err"
ok "  ... naming the certificate: $(head -c 200 "$T/fc.err")" test $? = 0
done_testing
