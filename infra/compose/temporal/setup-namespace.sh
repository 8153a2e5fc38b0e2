#!/bin/sh
# One-shot job (temporalio/admin-tools image): waits for the Temporal frontend, creates the
# namespace if it is missing and registers the custom search attributes the order workflow
# uses. Idempotent: an existing namespace is kept, an existing search attribute is skipped.
# Environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, NAMESPACE_RETENTION, SEARCH_ATTRIBUTES.
set -eu

ADDRESS=${TEMPORAL_ADDRESS:-temporal:7233}
NAMESPACE=${TEMPORAL_NAMESPACE:-default}
RETENTION=${NAMESPACE_RETENTION:-72h}
# name:type pairs, space separated
SEARCH_ATTRIBUTES=${SEARCH_ATTRIBUTES:-OrderId:Keyword UserId:Keyword TicketId:Keyword OrderStatus:Keyword}
ATTEMPTS=${SETUP_ATTEMPTS:-60}

# retry DESCRIPTION COMMAND...: runs COMMAND until it succeeds, at most ATTEMPTS times
retry() {
  what=$1
  shift
  i=1
  until "$@"; do
    [ "$i" -lt "$ATTEMPTS" ] || { echo "giving up: $what" >&2; return 1; }
    echo "not yet: $what (attempt $i/$ATTEMPTS)"
    i=$((i + 1))
    sleep 3
  done
}

retry "Temporal cluster health at $ADDRESS" temporal operator cluster health --address "$ADDRESS"

if temporal operator namespace describe --address "$ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists"
else
  retry "create namespace $NAMESPACE" \
    temporal operator namespace create --address "$ADDRESS" --namespace "$NAMESPACE" --retention "$RETENTION"
  echo "namespace $NAMESPACE created (retention $RETENTION)"
fi

# A new namespace reaches every frontend's cache within seconds; the retries cover that window.
for pair in $SEARCH_ATTRIBUTES; do
  name=${pair%%:*}
  type=${pair#*:}
  retry "search attribute $name ($type)" \
    temporal operator search-attribute create --address "$ADDRESS" --namespace "$NAMESPACE" \
    --name "$name" --type "$type"
done

temporal operator search-attribute list --address "$ADDRESS" --namespace "$NAMESPACE"
echo "Temporal namespace $NAMESPACE ready"
