#!/usr/bin/env bash
# Builds Volto 18.33.0 from the npm registry once, for the end-to-end test:
# the package is itself a Volto app; its test, lint and storybook tools are
# left out, and its config is made multilingual (en, de) as the test's site is.
# Usage: build-volto.sh CACHE_DIR   (the app ends up in CACHE_DIR/app; rerun is a no-op)
set -euo pipefail
VERSION=18.33.0
cache="${1:?cache dir}"
app="$cache/app"
if [ -f "$app/build/server.js" ] && [ "$(cat "$cache/built" 2>/dev/null)" = "$VERSION-1" ]; then
  echo "volto $VERSION: built in $app"
  exit 0
fi
rm -rf "$cache"
mkdir -p "$cache"
cd "$cache"
npm pack --silent "@plone/volto@$VERSION" >/dev/null
tar xzf "plone-volto-$VERSION.tgz"
mv package app
cd app
python3 - <<'PY'
import json, re
p = json.load(open('package.json'))
# Tests, linters, storybook and release tools are not needed to build the app;
# @plone/types is a workspace package that was never published at this version.
drop = re.compile(r'^(cypress|@cypress|storybook|@storybook|jest|@jest|vitest|@vitest|release-it|@release-it|'
                  r'husky|lint-staged|eslint|@typescript-eslint|stylelint|prettier|@testing-library|'
                  r'react-test-renderer|@plone/volto-coresandbox|@plone/types|full-icu|msw|jsdom|babel-jest|'
                  r'ts-jest|identity-obj-proxy|jest-.*|.*-jest|@types/.*)')
p['devDependencies'] = {k: v for k, v in p.get('devDependencies', {}).items() if not drop.match(k)}
p['scripts'] = {'build': 'razzle build --noninteractive'}
json.dump(p, open('package.json', 'w'), indent=2)
PY
# The site is bilingual: Volto's multilingual support is chosen at build time.
sed -i "s/isMultilingual: false,/isMultilingual: true,/; s/supportedLanguages: \['en'\],/supportedLanguages: ['en', 'de'],/" src/config/index.js
grep -q "isMultilingual: true" src/config/index.js
npm install --no-audit --no-fund --legacy-peer-deps --loglevel=error
npx razzle build --noninteractive
echo "$VERSION-1" > "$cache/built"
