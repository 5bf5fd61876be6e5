# bench.gp — the figure of `make bench`: median time per kernel and size, hjdl vs NumPy vs PyTorch, log axis.
# usage: gnuplot -e "datafile='bench-out/bench_plot.dat'; outfile='bench-out/bench.png'" bench/bench.gp
set terminal pngcairo size 1400,650 font ",10"
set output outfile
set title "hjdl vs NumPy vs PyTorch (float64, same threads; medians; adam = seconds per step)"
set ylabel "seconds (log scale)"
set logscale y
set format y "10^{%L}"
set grid ytics
set key top left
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set datafile missing "?"
set xtics nomirror font ",8"
set bmargin 6
plot datafile using 2:xtic(1) title "hjdl" lc rgb "#1b9e77", \
     '' using 3 title "NumPy" lc rgb "#7570b3", \
     '' using 4 title "PyTorch" lc rgb "#d95f02"
