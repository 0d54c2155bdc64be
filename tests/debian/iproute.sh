# debian.iproute: Debian's iproute2 (ip, ss) on Lintel's netlink. Each check prints one line
# the host side looks for.
ip addr show lo | grep -q 'qdisc noqueue state UNKNOWN group default qlen 1000' && echo "addr qdisc"
ip addr show lo | grep -q 'valid_lft forever preferred_lft forever' && echo "addr lifetimes"
ip addr show eth0 | grep -q 'inet 10.0.2.15/24 brd 10.0.2.255 scope global eth0' && echo "addr eth0"
# A listener on 127.0.0.1:7777 and a UDP socket on 127.0.0.1:5353 (perl-base's IO::Socket).
perl -MIO::Socket::INET -e '
    my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1:7777", Listen => 5, ReuseAddr => 1) or die;
    my $u = IO::Socket::INET->new(LocalAddr => "127.0.0.1:5353", Proto => "udp") or die;
    while (my $c = $l->accept) { print $c "hi\n"; close $c }' &
for i in $(seq 100); do grep -q ':1E61 00000000:0000 0A' /proc/net/tcp && break; sleep 0.1; done
exec 3<>/dev/tcp/127.0.0.1/7777 && read -r greeting <&3 && echo "greeting $greeting"
exec 3<&-
ss -tln | grep -q '^LISTEN 0 *5 *127.0.0.1:7777 ' && echo "ss listen"
ss -tlnp | grep '127.0.0.1:7777' | grep -q 'users:(("perl",pid=' && echo "ss process"
ss -uan | grep -q '^UNCONN 0 *0 *127.0.0.1:5353 ' && echo "ss udp"
ss -tan | grep -q 'TIME-WAIT.*127.0.0.1:7777' && echo "ss time-wait"
ss -xl >/dev/null && echo "ss unix"
ip -s link show lo | awk '/RX:/ { getline; if ($2 > 0) print "lo counted" }'
ip link set lo mtu 65536 && echo "lo mtu"
ip link set eth0 mtu 1400 && ip link show eth0 | grep -q 'mtu 1400' && echo "eth0 mtu"
ip link set eth0 mtu 9000 2>/dev/null || echo "eth0 mtu refused"
ip link set eth0 mtu 1500
ip link set eth0 down && ip link show eth0 | grep -q '<BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN' && echo "eth0 down"
ip link set eth0 up && ip link show eth0 | grep -q 'state UP' && echo "eth0 up"
ip route add default via 10.0.2.2 && echo "route back"
timeout 5 bash -c 'exec 3<>/dev/tcp/10.0.2.2/9' 2>/dev/null
ip neigh | grep -q '^10.0.2.2 dev eth0 lladdr 52:55:0a:00:02:02 REACHABLE' && echo "neigh gateway"
setpriv --reuid=65534 --regid=65534 --clear-groups ip link set lo mtu 65536 2>&1 | grep -q 'Operation not permitted' && echo "not root"
echo "iproute done"
