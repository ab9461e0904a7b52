#!/usr/bin/env bash
# dev-banner.sh BASE_URL MAILPIT_URL [TOKENS_FILE]: print `make run`'s start
# banner on stdout: where the portal, the dashboard (a ready-to-click link
# carrying AUDITOR_TOKEN in its #fragment, which never reaches the server),
# the API document and Mailpit are, and the development tokens with the
# line that loads them into a shell (TOKENS_FILE empty or absent: the
# tokens came from the caller's environment). Reads ADMIN_TOKEN and AUDITOR_TOKEN
# from the environment. Development only: the tokens are printed in full.
set -euo pipefail

[ $# -eq 2 ] || [ $# -eq 3 ] || { echo "usage: $0 BASE_URL MAILPIT_URL [TOKENS_FILE]" >&2; exit 2; }
base=${1%/} mailpit=${2%/} file=${3:-}
if [ -n "$file" ]; then
	where="kept in $file, git-ignored; delete it for new ones"
	load="set -a; . $file; set +a"
else
	where="from your environment"
	load="export ADMIN_TOKEN=… AUDITOR_TOKEN=… (the values above)"
fi
: "${ADMIN_TOKEN:?ADMIN_TOKEN is not set}" "${AUDITOR_TOKEN:?AUDITOR_TOKEN is not set}"

rule=$(printf '%*s' 78 '' | tr ' ' '=')
cat <<EOF
$rule
 multimedia is ready (development server from \`make run\`)

   portal       $base/
   dashboard    $base/dashboard#token=$AUDITOR_TOKEN
   API          $base/openapi.yaml
   Mailpit      $mailpit   (the emailed codes)

 Development tokens ($where):
   ADMIN_TOKEN=$ADMIN_TOKEN
   AUDITOR_TOKEN=$AUDITOR_TOKEN
 In another shell, for README's examples:  $load
$rule
EOF
