#!/bin/sh
# Makes the same change to a tracked file every round (with dirty_action = stash it never sticks).
echo "the same line" >> tracked.txt
echo "changed tracked.txt"
