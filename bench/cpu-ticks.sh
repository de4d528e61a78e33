# Sourced by the CPU-split scripts: CPU clock ticks by process name and the machine's idle time.

# user and system clock ticks of every process whose command name matches
ticks() { # comm-regex → "user system"
  local user=0 system=0 f line comm rest
  for f in /proc/[0-9]*/stat; do
    read -r line < "$f" 2>/dev/null || continue
    comm=${line#*(}; comm=${comm%%)*}
    [[ "$comm" =~ $1 ]] || continue
    rest=(${line##*) })
    user=$((user + rest[11])); system=$((system + rest[12]))
  done
  echo "$user $system"
}
idle() { awk '/^cpu / {print $5}' /proc/stat; }
# the machine's busy clock ticks (user, nice, system, irq, softirq, steal)
busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
# context switches on the whole machine so far (each round trip between processes costs some)
switches() { awk '/^ctxt/ {print $2}' /proc/stat; }
