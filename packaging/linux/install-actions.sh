#!/bin/sh
# Installs photofinder's "Find similar photos" right-click action for the file managers found
# here (Nautilus, Dolphin, Nemo) plus the desktop entry and icon. Per user, nothing as root.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
mkdir -p "$data/applications" "$data/icons/hicolor/scalable/apps"
cp "$here/photofinder.desktop" "$data/applications/"
cp "$here/../../resources/icons/photofinder.svg" "$data/icons/hicolor/scalable/apps/photofinder.svg"
mkdir -p "$data/nautilus/scripts" && cp "$here/nautilus-find-similar" "$data/nautilus/scripts/Find similar photos"
mkdir -p "$data/kio/servicemenus" && cp "$here/dolphin-servicemenu.desktop" "$data/kio/servicemenus/photofinder.desktop"
mkdir -p "$data/nemo/actions" && cp "$here/nemo.nemo_action" "$data/nemo/actions/photofinder-find-similar.nemo_action"
echo "installed: desktop entry, icon, and Find similar actions for Nautilus, Dolphin and Nemo"
