# bash completion for mmioctl(1): commands, options, and region names and lease ids
# asked of mmiod (quietly: nothing is offered if it does not answer). The commands and the
# options of each are those `mmioctl --list-commands` prints: the CTest completion
# (tests/integration/check_completion.py) fails when they differ.

# _mmioctl_query SOCKET_ARGS... COMMAND: first column of the command's table, header skipped;
# continuation rows (blank first column) are left out.
_mmioctl_query()
{
	timeout 2 "${_mmioctl_cmd:-mmioctl}" "$@" 2>/dev/null | awk 'NR > 1 && /^[^ ]/ { print $1 }'
}

_mmioctl()
{
	local cur prev words cword
	_init_completion || return

	local commands="regions leases revoke stats wait-irq regs read write modify poll dump run sim regmap trace replay"
	local global_opts="-s --socket -q --quiet -o --output -h --help -V --version --list-commands"
	local _mmioctl_cmd="${words[0]}"

	# The command, the positional arguments after it, and whether -a stands for REGION OFFSET.
	local i cmd="" sock=() npos=0 address="" region=""
	for ((i = 1; i < cword; i++)); do
		case "${words[i]}" in
		-s | --socket)
			sock=(-s "${words[i + 1]}")
			((i++))
			;;
		--socket=*)
			sock=(-s "${words[i]#--socket=}")
			;;
		-a | --address)
			address=1
			((i++))
			;;
		--address=*)
			address=1
			;;
		-w | --width | -t | --timeout | -i | --interval | -n | --count | -o | --output | \
			-p | --peripheral | --mask | --grace | --region)
			((i++))
			;;
		-*) ;;
		*)
			if [[ -z $cmd ]]; then
				cmd="${words[i]}"
			else
				((npos++ == 0)) && region="${words[i]}"
			fi
			;;
		esac
	done

	case "$prev" in
	-s | --socket)
		_filedir
		return
		;;
	-w | --width)
		COMPREPLY=($(compgen -W "8 16 32 64" -- "$cur"))
		return
		;;
	-o | --output)
		local formats="text json"
		if [[ -z $cmd || $cmd == stats ]]; then
			formats+=" prometheus"
		fi
		COMPREPLY=($(compgen -W "$formats" -- "$cur"))
		return
		;;
	-t | --timeout | -i | --interval | -n | --count | -a | --address | -p | --peripheral | --mask | --grace)
		return
		;;
	--region)
		COMPREPLY=($(compgen -W "$(_mmioctl_query "${sock[@]}" regions)" -- "$cur"))
		return
		;;
	esac

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$global_opts" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		fi
		return
	fi

	local opts="-s --socket -q --quiet -o --output -h --help"
	case "$cmd" in
	read | dump) opts+=" -w --width -a --address -d --decode" ;;
	modify) opts+=" -w --width -a --address" ;;
	write) opts+=" -w --width -a --address --verify" ;;
	poll) opts+=" -w --width -a --address -t --timeout -i --interval" ;;
	wait-irq) opts+=" -t --timeout -n --count" ;;
	sim) opts+=" -w --width --mask -d --decode" ;;
	revoke) opts+=" --grace" ;;
	trace) opts+=" -n --count" ;;
	replay) opts+=" --region --reset" ;;
	run) opts="-s --socket -h --help -k --keep-going" ;;
	regmap) opts="-h --help -p --peripheral" ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi

	case "$cmd" in
	read | write | modify | poll | dump | wait-irq | regs | trace)
		# With -a ADDR there is no REGION to name.
		if ((npos == 0)) && [[ -z $address ]]; then
			COMPREPLY=($(compgen -W "$(_mmioctl_query "${sock[@]}" regions)" -- "$cur"))
		elif ((npos == 1)) && [[ -z $address && $cmd != dump && $cmd != regs ]]; then
			# A register of the region's map, by name (arrays are NAME[0..N-1] there).
			COMPREPLY=($(compgen -W "$(_mmioctl_query "${sock[@]}" regs "$region")" -- "$cur"))
		fi
		;;
	sim)
		# sim OP REGION ...: the op, then the region.
		if ((npos == 0)); then
			COMPREPLY=($(compgen -W "get set irq reset" -- "$cur"))
		elif ((npos == 1)); then
			COMPREPLY=($(compgen -W "$(_mmioctl_query "${sock[@]}" regions)" -- "$cur"))
		fi
		;;
	revoke)
		if ((npos == 0)); then
			COMPREPLY=($(compgen -W "$(_mmioctl_query "${sock[@]}" leases)" -- "$cur"))
		fi
		;;
	run)
		if ((npos == 0)); then
			_filedir
		fi
		;;
	regmap)
		if ((npos == 0)); then
			COMPREPLY=($(compgen -W "import" -- "$cur"))
		elif ((npos == 1)); then
			_filedir svd
		fi
		;;
	esac
} &&
	complete -F _mmioctl mmioctl
