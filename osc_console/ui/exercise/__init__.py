"""Exercise mode: the banner every player sees, the watcher that keeps it current, exercise
control's panel, and File → Join exercise…"""
