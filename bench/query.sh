#!/usr/bin/env bash
# Prints a pixel query of about SIZE bytes (default: the seed's AMP sample
# page, 638 bytes): the AMP sample plus properties.fN=… pairs of 100 bytes.
set -euo pipefail
amp='writeKey=2AbCwk&context.library.name=Rudderstack%20AMP%20SDK&context.library.version=1.0.0&context.platform=AMP&anonymousId=amp-3f2a9c&context.locale=en-US&context.userAgent=Mozilla%2F5.0%20(iPhone%3B%20CPU%20iPhone%20OS%2017_0)&context.page.path=%2Fblog%2Fpost&context.page.url=https%3A%2F%2Fexample.com%2Fblog%2Fpost&context.page.referrer=https%3A%2F%2Fnews.example%2F&context.page.title=Hello%20World&context.screen.width=390&context.screen.height=844&properties.path=%2Fblog%2Fpost&properties.url=https%3A%2F%2Fexample.com%2Fblog%2Fpost&properties.referrer=https%3A%2F%2Fnews.example%2F&properties.title=Hello%20World&name=Blog%20Post'
size=${1:-0}
if [ "$size" -le "${#amp}" ]; then
  # Smaller than the sample: its first pairs that fit.
  q=writeKey=2AbCwk\&anonymousId=amp-3f2a9c
  [ "$size" -eq 0 ] && q=$amp
  i=0
  while [ "$size" -gt 0 ] && [ $(( ${#q} + 20 )) -le "$size" ]; do
    q="$q&properties.p$i=$(printf '%0*d' $(( size - ${#q} - 20 < 60 ? size - ${#q} - 20 + 1 : 60 )) 0)"
    i=$((i + 1))
  done
  printf '%s' "$q"
  exit 0
fi
q=$amp
i=0
pad=$(printf 'Lorem%%20ipsum%%20dolor%%20sit%%20amet%%2C%%20consectetur%%20adipiscing%%20elit%%2C%%20sed%%20do%%20eiusmod')
while [ $(( ${#q} + 19 + ${#pad} )) -le "$size" ]; do
  q="$q&properties.f$i=$pad"
  i=$((i + 1))
done
printf '%s' "$q"
